"""The onboarding console's domain core: importable without Streamlit."""
