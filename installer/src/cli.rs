//! The `kraft-install` command line. The flags are defined in the library (`kraftd::install_cli`)
//! so `kraftd generate-docs` renders the same man page and completions.

pub use kraftd::install_cli::Args;
