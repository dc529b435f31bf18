"""Model tokens: minting a run's model, checking a model file's watermark owners, trading."""
