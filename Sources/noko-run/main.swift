import ArgumentParser
import NokoCLI

NokoRun.main()
