"""The run machinery: the ``grokpaper`` command executes the book's notebooks under a profile.

Each module imports only those listed below it, and none imports a study
(``tests/test_import_graph.py`` checks both):

- ``cli``: the command line (parse, pre-flight, run, report);
- ``preflight``: what a user typed, checked before anything runs;
- ``runner``: execute notebooks into pages, skipping unchanged ones;
- ``cluster``: the Dask cluster of a run, and notebooks as tasks on it;
- ``missing_data``: the page of a chapter whose data is missing;
- ``pages``: what an executed notebook gets before it is a page (folded cells, damage notes);
- ``notebooks``: the bottom: notebooks, pages, outcomes, parameters cells.
"""
