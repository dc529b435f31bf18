"""Machine learning: data, models, training, server arithmetic, algorithms, robust rules, attacks, watermark maths."""
