// wandb sync over libcurl: see issue 6.
import NokoCore
