// `import Noko` gives the whole API: the core logger and the run module.
@_exported import NokoCore
