//! `refrain config path|init|check` and `refrain presets`.

use serde_json::json;

use super::{Cli, ConfigCommand, Failure};
use crate::config::{self as settings, presets};

pub fn config(command: &ConfigCommand, cli: &mut Cli) -> Result<i32, Failure> {
    let path = cli
        .config
        .clone()
        .or_else(settings::default_path)
        .ok_or_else(|| {
            Failure::bad_input("this platform has no config directory; use --config FILE")
        })?;
    match command {
        ConfigCommand::Path => {
            println!("{}", path.display());
            Ok(0)
        }
        ConfigCommand::Init { force } => {
            if path.exists() {
                if !force {
                    return Err(Failure::bad_input(format!(
                        "{} already exists; `refrain config init --force` replaces it (the old \
                         one is kept as config.toml.bak)",
                        path.display()
                    )));
                }
                let backup = path.with_extension("toml.bak");
                std::fs::copy(&path, &backup).map_err(|error| {
                    Failure::bad_input(format!("could not back up {}: {error}", path.display()))
                })?;
                eprintln!("kept the old file as {}", backup.display());
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|error| {
                    Failure::bad_input(format!("could not create {}: {error}", dir.display()))
                })?;
            }
            std::fs::write(&path, settings::DEFAULT_CONFIG).map_err(|error| {
                Failure::bad_input(format!("could not write {}: {error}", path.display()))
            })?;
            println!("{}", path.display());
            Ok(0)
        }
        ConfigCommand::Check => {
            cli.settle()?;
            print_effective(cli);
            Ok(0)
        }
    }
}

/// What flags, environment, preset, config file and defaults add up to.
fn print_effective(cli: &Cli) {
    let settled = &cli.settled;
    match &settled.config_path {
        Some(path) => println!("config file   {} (valid)", path.display()),
        None => println!("config file   none (built-in defaults)"),
    }
    if let Some(preset) = &settled.preset {
        println!("preset        {}", preset.name);
    }
    let model = match cli.load.to_options() {
        Ok(options) => options.model_path.display().to_string(),
        Err(message) => format!("none ({})", message.lines().next().unwrap_or("")),
    };
    let load = &cli.load;
    println!("model         {model}");
    println!(
        "context       {}",
        load.ctx_size
            .unwrap_or(crate::engine::LoadOptions::DEFAULT_CONTEXT_SIZE)
    );
    println!(
        "threads       {}",
        load.threads
            .map_or_else(|| "one per core".to_owned(), |t| t.to_string())
    );
    println!(
        "batch size    {}",
        load.batch_size
            .unwrap_or(crate::engine::LoadOptions::DEFAULT_BATCH_SIZE)
    );
    println!(
        "gpu layers    {}",
        load.gpu_layers
            .unwrap_or(crate::engine::GpuLayers::Count(0))
    );
    if !load.model_dirs.is_empty() {
        let dirs: Vec<String> = load
            .model_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        println!("model dirs    {}", dirs.join(", "));
    }
    let p = cli.sampler.to_params();
    println!(
        "sampler       temperature {} · top-k {} · top-p {} · min-p {} · repeat {} (last {}) · \
         presence {} · frequency {} · seed {} · max tokens {}{}",
        p.temperature,
        p.top_k,
        p.top_p,
        p.min_p,
        p.repeat_penalty,
        p.repeat_last_n,
        p.presence_penalty,
        p.frequency_penalty,
        p.seed
            .map_or_else(|| "random".to_owned(), |s| s.to_string()),
        p.max_tokens,
        if p.stop.is_empty() {
            String::new()
        } else {
            format!(" · stop {:?}", p.stop)
        }
    );
    println!(
        "studio        theme {} · sentiment {} · mouse {} · template {}",
        format!("{:?}", settled.theme).to_lowercase(),
        settled.sentiment.label(),
        if settled.mouse { "on" } else { "off" },
        cli.template.as_deref().unwrap_or("the model's")
    );
    println!(
        "history       {}",
        match super::recording_path(cli) {
            Some(path) => format!("on ({})", path.display()),
            None => "off".to_owned(),
        }
    );
    for (action, keys) in &settled.keys {
        let names: Vec<String> = keys.iter().map(|k| k.config_name()).collect();
        println!("key           {} = {}", action.name(), names.join(", "));
    }
}

/// `refrain presets [NAME] [--json]`.
pub fn presets(name: Option<&str>, as_json: bool) -> Result<i32, Failure> {
    let all = presets::all().map_err(Failure::bad_input)?;
    let chosen: Vec<&presets::Preset> = match name {
        Some(name) => vec![presets::find(&all, name).map_err(Failure::bad_input)?],
        None => all.iter().collect(),
    };
    if as_json {
        let rows: Vec<_> = chosen
            .iter()
            .map(|p| {
                let s = &p.sampler;
                json!({
                    "name": p.name,
                    "kind": if p.is_prompt() { "prompt" } else { "sampler" },
                    "description": p.description,
                    "language": p.language,
                    "system": p.system,
                    "prompt": p.prompt,
                    "placeholders": p.placeholders(),
                    "sampler": {
                        "temperature": s.temperature, "top_k": s.top_k, "top_p": s.top_p,
                        "min_p": s.min_p, "repeat_penalty": s.repeat_penalty,
                        "max_tokens": s.max_tokens,
                    },
                    "file": p.file,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(0);
    }
    if let (Some(_), [preset]) = (name, chosen.as_slice()) {
        println!("{} — {}", preset.name, preset.description);
        if let Some(language) = &preset.language {
            println!("language: {language}");
        }
        let blanks = preset.placeholders();
        if !blanks.is_empty() {
            let flags: Vec<String> = blanks.iter().map(|b| format!("--var {b}=…")).collect();
            println!("fill in:  {}", flags.join(" "));
        }
        if let Some(system) = &preset.system {
            println!("\nsystem:\n{system}");
        }
        if let Some(prompt) = &preset.prompt {
            println!("\nprompt:\n{prompt}");
        }
        return Ok(0);
    }
    for preset in chosen {
        let kind = if preset.is_prompt() {
            "prompt"
        } else {
            "sampler"
        };
        let origin = if preset.file.is_some() {
            " (yours)"
        } else {
            ""
        };
        println!(
            "{:<18} {:<8} {}{origin}",
            preset.name, kind, preset.description
        );
    }
    if let Some(dir) = presets::user_dir() {
        println!(
            "\nyour presets: {}/NAME.toml (same name replaces a built-in)",
            dir.display()
        );
    }
    Ok(0)
}
