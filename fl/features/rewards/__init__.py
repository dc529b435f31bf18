"""The reward token: each round's budget paid to the contributors."""
