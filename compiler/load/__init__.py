"""Stage 1, the front end: read a workflow file (``loader``), render its Jinja in the sandbox (``render``,
``sandbox``, ``set_values``, ``token_hints``), read the document defensively (``document``) and place every
diagnostic at ``file:line:col`` (``locate``), within the costs ``limits`` allows."""
