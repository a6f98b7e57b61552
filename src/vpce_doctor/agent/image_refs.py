"""Which container images this node refers to, and which registries containerd mirrors.

Read, bounded, from files root can read (no CRI socket, no container runtime client):
- containerd's config (/etc/containerd/config.toml): the sandbox (pause) image, and
  registry mirrors (`registry.mirrors."docker.io"` in the old layout);
- containerd's hosts directory (/etc/containerd/certs.d/<registry>/hosts.toml): a mirror
  for that registry when the file names a host;
- kubelet's --pod-infra-container-image;
- the images of the Kubernetes containers running now: containerd writes each task's OCI
  spec to /run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/config.json with the
  annotation io.kubernetes.cri.image-name.
Images only a future pod will pull, and mirrors configured elsewhere, are not seen.
"""
from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List, Optional

CONFIG = "etc/containerd/config.toml"
HOSTS_DIR = "etc/containerd/certs.d"
TASKS_DIR = "run/containerd/io.containerd.runtime.v2.task/k8s.io"
MAX_TASKS = 200  # running containers read per run
MAX_FILE = 256 * 1024
MAX_REFERENCES = 50
IMAGE_ANNOTATION = "io.kubernetes.cri.image-name"


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_FILE)
    except OSError:
        return None


def sandbox_image(config_text: str) -> Optional[str]:
    """containerd 1.x `sandbox_image = "..."`, 2.x `sandbox = "..."` (pinned_images)."""
    found = re.search(r"^\s*sandbox(?:_image)?\s*=\s*[\"']([^\"']+)[\"']", config_text, re.M)
    return found.group(1) if found else None


def config_mirrors(config_text: str) -> Dict[str, str]:
    """The old CRI layout: [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
    followed by endpoint = ["https://mirror..."]."""
    out = {}
    for match in re.finditer(r"registry\.mirrors\.[\"']([^\"']+)[\"']\]\s*\n\s*endpoint\s*=\s*\[([^\]]*)\]",
                             config_text):
        endpoints = re.findall(r"[\"']([^\"']+)[\"']", match.group(2))
        if endpoints:
            out[match.group(1).lower()] = endpoints[0]
    return out


def hosts_mirrors(hosts_dir: str) -> Dict[str, str]:
    """/etc/containerd/certs.d/<registry>/hosts.toml with a [host."https://..."] section."""
    out = {}
    try:
        registries = sorted(os.listdir(hosts_dir))[:100]
    except OSError:
        return out
    for registry in registries:
        text = _read(os.path.join(hosts_dir, registry, "hosts.toml")) or ""
        host = re.search(r"^\s*\[host\.[\"']([^\"']+)[\"']\]", text, re.M)
        if host:
            out[registry.lower()] = host.group(1)
    return out


def running_images(tasks_dir: str) -> List[str]:
    try:
        tasks = sorted(os.listdir(tasks_dir))[:MAX_TASKS]
    except OSError:
        return []
    images = []
    for task in tasks:
        text = _read(os.path.join(tasks_dir, task, "config.json"))
        if not text:
            continue
        try:
            image = (json.loads(text).get("annotations") or {}).get(IMAGE_ANNOTATION)
        except ValueError:
            continue
        if image:
            images.append(image)
    return images


def collect(root: str = "/", kubelet_pause_image: Optional[str] = None) -> Dict[str, Any]:
    config_text = _read(os.path.join(root, CONFIG)) or ""
    references: List[Dict[str, str]] = []
    seen = set()

    def add(image: Optional[str], source: str) -> None:
        if image and image not in seen and len(references) < MAX_REFERENCES:
            seen.add(image)
            references.append({"image": image, "source": source})

    add(sandbox_image(config_text), "/" + CONFIG + " sandbox image")
    add(kubelet_pause_image, "kubelet --pod-infra-container-image")
    for image in running_images(os.path.join(root, TASKS_DIR)):
        add(image, "running container")
    mirrors = config_mirrors(config_text)
    mirrors.update(hosts_mirrors(os.path.join(root, HOSTS_DIR)))
    return {"references": references, "mirrors": mirrors}
