import warnings

# The SDK announces preview features it defines at import; Cadence uses none of them.
warnings.filterwarnings("ignore", message=".*is in preview.*")
