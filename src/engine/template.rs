//! Rendering a [`Prompt`] to the exact text the model reads.

use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};

use super::error::EngineError;
use super::request::Prompt;

/// Template names llama.cpp knows built in; shown when a name is not recognised.
pub const KNOWN_TEMPLATES: &[&str] = &[
    "chatml",
    "llama2",
    "llama3",
    "mistral-v7",
    "phi3",
    "phi4",
    "gemma",
    "zephyr",
    "deepseek3",
    "command-r",
    "vicuna",
    "granite",
];

/// The text to tokenize, and a description of the template used.
pub fn render_prompt(model: &LlamaModel, prompt: &Prompt) -> Result<(String, String), EngineError> {
    let (system, user, template) = match prompt {
        Prompt::Raw(text) => return Ok((text.clone(), "none (raw prompt)".into())),
        Prompt::Chat {
            system,
            user,
            template,
        } => (system, user, template),
    };
    let mut messages = Vec::new();
    if let Some(system) = system.as_deref().filter(|s| !s.trim().is_empty()) {
        messages.push(message("system", system)?);
    }
    messages.push(message("user", user)?);

    if let Some(name) = template {
        let chosen = LlamaChatTemplate::new(name).map_err(|_| EngineError::Template {
            reason: format!("template name {name:?} contains a NUL byte"),
        })?;
        let text = model
            .apply_chat_template(&chosen, &messages, true)
            .map_err(|_| EngineError::Template {
                reason: format!(
                    "llama.cpp does not know the template {name:?}; known names include {}",
                    KNOWN_TEMPLATES.join(", ")
                ),
            })?;
        return Ok((text, format!("{name} (--template)")));
    }

    let chatml = || LlamaChatTemplate::new("chatml").expect("static name has no NUL");
    match model.chat_template(None) {
        Ok(embedded) => match model.apply_chat_template(&embedded, &messages, true) {
            Ok(text) => Ok((text, "embedded in the model".into())),
            Err(_) => {
                let text = apply(model, &chatml(), &messages)?;
                Ok((
                    text,
                    "chatml (fallback: llama.cpp does not recognise the model's template; \
                     choose one with --template)"
                        .into(),
                ))
            }
        },
        Err(_) => {
            let text = apply(model, &chatml(), &messages)?;
            Ok((
                text,
                "chatml (fallback: the model has no chat template; choose one with --template, \
                 or use --raw)"
                    .into(),
            ))
        }
    }
}

fn apply(
    model: &LlamaModel,
    template: &LlamaChatTemplate,
    messages: &[LlamaChatMessage],
) -> Result<String, EngineError> {
    model
        .apply_chat_template(template, messages, true)
        .map_err(|error| EngineError::Template {
            reason: error.to_string(),
        })
}

fn message(role: &str, content: &str) -> Result<LlamaChatMessage, EngineError> {
    LlamaChatMessage::new(role.to_owned(), content.to_owned()).map_err(|_| EngineError::Template {
        reason: format!("the {role} message contains a NUL byte"),
    })
}
