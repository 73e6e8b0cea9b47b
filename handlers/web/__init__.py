"""The web pages of `cadence serve` (`/app/`): server-rendered HTML over the same core as the chats,
for the study's people only (a one-time sign-in link from `/cadence dashboard`)."""
