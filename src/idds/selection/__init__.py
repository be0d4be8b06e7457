"""Patient selection for intrathecal therapy (research and training software)."""
