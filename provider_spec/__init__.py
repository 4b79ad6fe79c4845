"""Not code: makes provider_spec/ the resource package `sqlprovider.provider_spec` of a wheel.

pyproject.toml maps the package onto this folder, so the YAML files ship inside the installed
package and `sqlprovider.spec.loader` finds them with importlib.resources, which wants a package.
"""
