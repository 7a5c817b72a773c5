import Noko
print("noko-example")
