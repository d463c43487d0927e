"""The compiler: lowering typed AST to graphs, the pass pipeline, and graphs back to source."""
from .codegen import graph_to_source
from .lower import LoweredModule, lower_function, lower_module
from .passes.pipeline import DEFAULT_PASSES, Pass, PassError, add_pass, run_pipeline

__all__ = ["lower_module", "lower_function", "LoweredModule", "run_pipeline", "add_pass", "Pass",
           "PassError", "DEFAULT_PASSES", "graph_to_source"]
