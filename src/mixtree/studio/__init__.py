"""The studio: a web page to see, hear and edit a project, and OSC remote control.

`server.Studio` runs it (``mixtree studio``, `mixtree.studio`); `session.Session` is its
bridge to the engine and the project; `peaks` draws waveforms' overviews; `osc` serves
Ardour's core OSC addresses. The page itself is in ``static/``.
"""
