// `import Noko` gives the whole API: the core logger and the run module.
@_exported import NokoCore
@_exported import NokoGit
@_exported import NokoMLflow
@_exported import NokoWandb
