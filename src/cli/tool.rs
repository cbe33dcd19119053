//! `kraftd tool NAME` and the `kafka-*` links to kraftd (multi-call): their arguments; the launch
//! itself is `kraftd::tools`.

use kraftd::tools::{self, Tool};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ToolArgs {
    /// kraftd.toml of the local node (default: $KRAFTD_CONFIG, else /etc/kafka/kraftd.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The tool to run.
    #[arg(value_name = "TOOL", value_parser = tool_names())]
    pub name: String,
    /// Arguments passed to the tool unchanged.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<OsString>,
}

/// The tool names, for clap.
fn tool_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Tool::ALL.map(Tool::name))
}

/// Run the tool (the JVM replaces this process). Returns only why it could not start.
pub fn run(args: ToolArgs) -> anyhow::Error {
    let tool = Tool::from_name(&args.name).expect("clap checked the tool name");
    tools::exec(tool, &tools::config_path(args.config.as_deref()), args.args)
}

/// When this process was started through a `kafka-*` link (`/usr/bin/kafka-topics -> kraftd`), run
/// that tool with the remaining arguments; returns None when it was started as `kraftd`, else why
/// the tool could not start.
pub fn run_as_link() -> Option<anyhow::Error> {
    let mut argv = std::env::args_os();
    let tool = argv.next().as_deref().and_then(Tool::from_argv0)?;
    Some(tools::exec(tool, &tools::config_path(None), argv.collect()))
}
