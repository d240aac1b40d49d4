"""Getting an answer model: GGUF files from the Hugging Face hub, a local Ollama, and the remembered choice."""
