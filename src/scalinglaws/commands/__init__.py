"""Command groups of the CLI, one module per capability.

Each module here defines ``register(app: typer.Typer) -> None`` that adds its commands to the main app;
:mod:`scalinglaws.cli` calls every module's ``register`` in name order. Modules import their heavy
dependencies inside the command functions, so ``scalinglaws --help`` stays fast.
"""
