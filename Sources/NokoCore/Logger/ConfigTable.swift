/// The `config` table: the run's config, flattened, as one row at step 0 (`initExtra`
/// logs it), so the config sits in the journal beside the rows it produced. Named here once
/// for the run module that logs it and the remotes that treat it apart.
package enum ConfigTable {
    package static let name = "config"
}
