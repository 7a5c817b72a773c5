import Noko
print("noko-bench")
