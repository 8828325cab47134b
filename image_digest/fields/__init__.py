"""Where images live in the resources users declare: the one catalog of image fields, value
codecs (`|json`, `|docker`, `|yaml`), finding and replacing images by path, the one rule for
"is this a container image" (`recognize`), Helm values, local builds, Terraform variables
files, and the "left as a tag" warnings. No registry access: the adapters and `audit` pair
these with a resolver."""
