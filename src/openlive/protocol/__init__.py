"""Sans-I/O Gemini Live protocol: bytes in, typed messages out, and back. No sockets, no asyncio."""
