//! The hidden `kraftd generate-docs` (used by packaging/build-packages.sh): man pages (clap_mangen)
//! and bash/zsh/fish completions (clap_complete) for kraftd and kraft-install, rendered from their
//! clap definitions.

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;
use std::path::{Path, PathBuf};

/// kraft-install's command line, the very file the installer binary parses with.
#[path = "../../installer/src/cli.rs"]
mod kraft_install;

#[derive(clap::Args, Debug)]
pub struct GenerateDocsArgs {
    /// Output directory: man/*.1 and completions/* are written below it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Write the pages and completions of both commands and list the files on stdout.
pub fn run(args: &GenerateDocsArgs) -> Result<()> {
    let commands = [super::Cli::command(), kraft_install::Args::command()];
    let files = generate(&args.out, &commands).context("kraftd generate-docs")?;
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}

/// Write, under `out`: `man/<name>.1` for each command and `man/<name>-<sub>.1` for each visible
/// subcommand; `completions/<name>.bash`, `completions/_<name>` (zsh), `completions/<name>.fish`.
/// Returns the files written.
fn generate(out: &Path, commands: &[clap::Command]) -> Result<Vec<PathBuf>> {
    let man_dir = out.join("man");
    let completion_dir = out.join("completions");
    for dir in [&man_dir, &completion_dir] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut written = Vec::new();
    for cmd in commands {
        let mut cmd = cmd.clone();
        cmd.build();
        let name = cmd.get_name().to_string();
        written.push(write(&man_dir.join(format!("{name}.1")), &man_page(&cmd)?)?);
        for sub in cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            let page_name = format!("{name}-{}", sub.get_name());
            let sub = sub
                .clone()
                .display_name(page_name.clone())
                .bin_name(format!("{name} {}", sub.get_name()));
            written.push(write(
                &man_dir.join(format!("{page_name}.1")),
                &man_page(&sub)?,
            )?);
        }
        for (shell, file) in [
            (Shell::Bash, format!("{name}.bash")),
            (Shell::Zsh, format!("_{name}")),
            (Shell::Fish, format!("{name}.fish")),
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, name.clone(), &mut buf);
            written.push(write(&completion_dir.join(file), &buf)?);
        }
    }
    Ok(written)
}

fn man_page(cmd: &clap::Command) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .with_context(|| format!("cannot render the man page of {}", cmd.get_name()))?;
    Ok(buf)
}

fn write(path: &Path, contents: &[u8]) -> Result<PathBuf> {
    kraftd::fsutil::write_atomic(path, contents, 0o644)?;
    Ok(path.to_path_buf())
}
