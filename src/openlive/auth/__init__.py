"""API keys, ephemeral tokens and quotas."""
