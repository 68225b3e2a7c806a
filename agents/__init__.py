"""LangChain agents that write and direct the story."""
