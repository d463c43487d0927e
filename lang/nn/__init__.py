"""tensorscript.nn: modules and the functional API."""
