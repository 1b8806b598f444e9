//! docker-harden: audit a Docker host against the CIS Docker Benchmark and fix it safely.

fn main() {
    std::process::exit(docker_harden::cli::run(std::env::args_os()));
}
