import warnings

# The Teams SDK announces preview features it defines at import (the web's token checks import it too,
# before handlers.teams); Cadence uses none of them.
warnings.filterwarnings("ignore", message=".*is in preview.*")
