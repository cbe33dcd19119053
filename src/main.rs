//! kraftd: parses the command line, sets up logging, dispatches, maps errors to exit codes.

fn main() {
    eprintln!("kraftd: not implemented yet");
    std::process::exit(kraftd::exit::FAILURE);
}
