//! kraft-install: parses the command line, sets up logging, runs the install plan, maps errors to exit codes.

fn main() {
    eprintln!("kraft-install: not implemented yet");
    std::process::exit(kraftd::exit::FAILURE);
}
