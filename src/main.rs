use clap::Parser;

use refrain::cli::{self, Cli, CommandLine, Failure};

fn main() {
    // Before any thread starts: ggml must not launch a debugger when it aborts.
    std::env::set_var("GGML_NO_BACKTRACE", "1");
    refrain::fatal::install_panic_hook();
    let mut cli = Cli::parse();
    let code = match settle_and_dispatch(&mut cli) {
        Ok(code) => code,
        Err(failure) => {
            refrain::fatal::restore_terminal();
            eprintln!("refrain: {}", failure.message);
            failure.exit_code
        }
    };
    std::process::exit(code);
}

/// Config commands work on a broken config file (that is what they are for); every other
/// command needs a valid one, so nothing starts half-configured.
fn settle_and_dispatch(cli: &mut Cli) -> Result<i32, Failure> {
    match &cli.command {
        Some(CommandLine::Config(command)) => {
            let command = command.clone();
            return cli::config(&command, cli);
        }
        Some(CommandLine::CheckModel { .. }) => {}
        _ => cli.settle()?,
    }
    dispatch(cli)
}

fn dispatch(cli: &Cli) -> Result<i32, Failure> {
    match &cli.command {
        Some(CommandLine::Config(_)) => unreachable!("handled before settling"),
        Some(CommandLine::Presets { name, json }) => cli::presets(name.as_deref(), *json),
        Some(CommandLine::CheckModel { path }) => {
            refrain::logging::init(cli.verbose);
            // The parent reads our last stderr line as the reason: print only that.
            match refrain::engine::check_model_here(path) {
                Ok(()) => Ok(0),
                Err(refrain::engine::EngineError::ModelInvalid { reason, .. }) => {
                    eprintln!("{reason}");
                    Ok(cli::EXIT_BAD_INPUT)
                }
                Err(error) => Err(error.into()),
            }
        }
        Some(CommandLine::Run(args)) => {
            refrain::logging::init(cli.verbose);
            cli::run(
                args,
                &cli.load,
                cli.settled.preset.as_ref(),
                cli::open_history(cli).as_ref(),
            )
        }
        Some(CommandLine::Fork(args)) => {
            refrain::logging::init(cli.verbose);
            cli::fork(
                args,
                &cli.load,
                args.sampler.to_params(),
                cli.settled.preset.as_ref(),
                cli::open_history(cli).as_ref(),
            )
        }
        Some(CommandLine::Sweep(args)) => {
            refrain::logging::init(cli.verbose);
            cli::sweep(
                args,
                &cli.load,
                &cli.sampler.to_params(),
                cli.settled.preset.as_ref(),
                cli::open_history(cli).as_ref(),
            )
        }
        Some(CommandLine::Bench(args)) => {
            refrain::logging::init(cli.verbose);
            if args.ui {
                cli::bench_ui(args, &cli.load)
            } else if args.inspector {
                cli::bench_inspector(args, &cli.load)
            } else if let Some(ways) = args.sweep {
                cli::bench_sweep(args, ways, &cli.load)
            } else {
                cli::bench(args, &cli.load)
            }
        }
        Some(CommandLine::Models {
            devices: true,
            json,
            ..
        }) => {
            refrain::logging::init(cli.verbose);
            cli::devices(*json, &cli.load)
        }
        Some(CommandLine::Models { json, .. }) if cli.load.endpoint.is_some() => {
            let endpoint = cli.load.endpoint.as_ref().expect("checked");
            cli::server_models(endpoint, *json)
        }
        Some(CommandLine::Models { dirs, json, .. }) => {
            let mut dirs = dirs.clone();
            dirs.extend(cli.load.model_dirs.iter().cloned());
            cli::models(&dirs, *json)
        }
        Some(CommandLine::History(command)) => {
            refrain::logging::init(cli.verbose);
            cli::history(command, cli)
        }
        Some(CommandLine::Sentiment(args)) => {
            refrain::logging::init(cli.verbose);
            cli::sentiment(args, &cli.load)
        }
        Some(CommandLine::Eval(cli::EvalCommand::Sentiment(args))) => {
            refrain::logging::init(cli.verbose);
            cli::eval_sentiment(args, &cli.load)
        }
        None => {
            refrain::logging::init(cli.verbose);
            let settled = &cli.settled;
            let options = refrain::tui::StudioOptions {
                template: cli.template.clone(),
                history_path: cli::recording_path(cli),
                sentiment: settled.sentiment,
                mouse: settled.mouse,
                theme: settled.theme,
                keymap: refrain::tui::keymap::Keymap::with_overrides(&settled.keys)
                    .map_err(|error| Failure::bad_input(error.message))?,
                presets: refrain::config::presets::all().map_err(Failure::bad_input)?,
                preset: settled.preset.clone(),
                endpoints: settled.endpoints.clone(),
            };
            refrain::tui::run(&cli.load, &cli.sampler, &options)
        }
    }
}
