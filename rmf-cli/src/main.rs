//! The `rmf` binary: the command line of [`rmf_cli::run`].

fn main() -> std::process::ExitCode {
    sigpipe::reset();
    std::process::ExitCode::from(rmf_cli::run(std::env::args_os()))
}
