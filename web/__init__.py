"""Everything the app serves besides the Gradio page: JSON API, document view, widget, feedback.

Nothing here imports gradio; ``app.py`` assembles these pieces with the Gradio UI.
"""
