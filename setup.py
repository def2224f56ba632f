"""Maps the top-level architecture folders onto the `archiefstroom` namespace."""
from setuptools import find_packages, setup

FOLDERS = {
    "archiefstroom.schemas": "schemas",
    "archiefstroom.core": "core",
    "archiefstroom.ground": "ground",
    "archiefstroom.archive": "archive",
    "archiefstroom.catalog": "catalog",
    "archiefstroom.duties": "duties",
    "archiefstroom.web": "web",
    "archiefstroom.transforms": "transforms",
    "archiefstroom.pipelines": "pipelines",
    "archiefstroom.connectors": "connectors",
    "archiefstroom.samples": "samples",
}

packages = ["archiefstroom"] + [f"archiefstroom.{p}" for p in find_packages("archiefstroom")]
for namespace, folder in FOLDERS.items():
    packages.append(namespace)
    packages += [f"{namespace}.{sub}" for sub in find_packages(folder)]

packages.append("archiefstroom.schemas.history")   # data only: previous schema versions
setup(packages=packages, package_dir={"archiefstroom": "archiefstroom", **FOLDERS})
