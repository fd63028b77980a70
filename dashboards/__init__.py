"""The Streamlit dashboard, shipped in the wheel as ``mlstrat._dashboard``."""
