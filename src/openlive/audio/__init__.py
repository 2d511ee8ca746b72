"""PCM helpers, decoding of declared audio formats, resampling, framing, the playback clock."""
