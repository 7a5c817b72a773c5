// libgit2 checkpoints: see issue 5.
import NokoCore
