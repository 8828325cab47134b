"""Audit planned deployments for images deployed by tag: the CI gate behind `image-digest audit`.

`read_document` tells a file's format by its content (Terraform plan JSON, CDKTF
`cdk.tf.json`, Pulumi preview or stack export, Kubernetes YAML) and reads the resources it
deploys; `tags_in` lists the references one resource deploys by tag, reading the same catalog
and heuristics the pinners use. `read_deployment` reads every image a file (those formats, a
Terraform state, or a lock file) leaves deployed, and `compare` tells whether two such files
deploy the same digests: `image-digest diff`.
"""

from image_digest.audit.comparison import Comparison, RepositoryDiff, compare
from image_digest.audit.deployed import DeployedImage, Deployment, read_deployment
from image_digest.audit.findings import Finding, tags_in
from image_digest.audit.formats import FORMATS, UnreadableInputError, read_document
from image_digest.audit.resources import Document, Resource

__all__ = [
    "FORMATS",
    "Comparison",
    "DeployedImage",
    "Deployment",
    "Document",
    "Finding",
    "RepositoryDiff",
    "Resource",
    "UnreadableInputError",
    "compare",
    "read_deployment",
    "read_document",
    "tags_in",
]
