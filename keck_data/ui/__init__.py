"""The only part of keck_data that imports streamlit: resources, cached loaders, page frame, widgets."""
