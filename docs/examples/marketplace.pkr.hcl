# Build a Marketplace image locally with QEMU, audit it with imgcheck, import
# it into DigitalOcean, and point the Marketplace listing at it, but only
# when the audit passes.
#
#   export DIGITALOCEAN_TOKEN=...                 # API token: import and Vendor API
#   export DIGITALOCEAN_SPACES_ACCESS_KEY=...     # Spaces keys: upload for the import
#   export DIGITALOCEAN_SPACES_SECRET_KEY=...
#   packer init . && packer build -var app_id=60089fc6d333037bffa70d9b -var app_version=1.4 .
#
# Parsed with HashiCorp's HCL parser in tools/packer_test.go; not run here
# (no Packer, no network).

packer {
  required_plugins {
    qemu = {
      source  = "github.com/hashicorp/qemu"
      version = ">= 1.1.0"
    }
    digitalocean = {
      source  = "github.com/digitalocean/digitalocean"
      version = ">= 1.4.0"
    }
  }
}

variable "app_id" {
  type        = string
  description = "Marketplace app ID from the Vendor Portal"
}

variable "app_version" {
  type = string
}

variable "space_name" {
  type    = string
  default = "myapp-images"
}

locals {
  image = "output-myapp/myapp-${var.app_version}.qcow2"
}

source "qemu" "myapp" {
  iso_url          = "https://cloud-images.ubuntu.com/releases/24.04/release/ubuntu-24.04-server-cloudimg-amd64.img"
  iso_checksum     = "file:https://cloud-images.ubuntu.com/releases/24.04/release/SHA256SUMS"
  disk_image       = true
  format           = "qcow2"
  disk_size        = "25G" # the smallest Droplet disk: a larger image cannot launch on it
  disk_compression = true
  output_directory = "output-myapp"
  vm_name          = "myapp-${var.app_version}.qcow2"
  accelerator      = "kvm"
  headless         = true

  # cloud-init NoCloud seed: user-data authorizes build_key.pub for root
  # (disable_root: false); the cleanup below removes it again.
  cd_files = ["seed/user-data", "seed/meta-data"]
  cd_label = "cidata"

  communicator         = "ssh"
  ssh_username         = "root"
  ssh_private_key_file = "build_key"
  ssh_timeout          = "10m"
  shutdown_command     = "shutdown -P now"
}

build {
  sources = ["source.qemu.myapp"]

  provisioner "shell" {
    scripts = [
      "scripts/install-myapp.sh",
      "scripts/90-cleanup.sh", # DigitalOcean's marketplace-partners cleanup
    ]
  }

  post-processors {
    # 1. Audit the local image offline, before anything is uploaded. A FAIL
    #    (or an unreadable image) exits non-zero: the post-processor fails,
    #    the chain stops and nothing is imported.
    post-processor "shell-local" {
      inline = [
        "imgcheck scan --fail-on fail --format text --format sarif=imgcheck.sarif --format json=imgcheck.json ${local.image}",
      ]
    }

    # 2. Upload to Spaces and import as a custom image; its artifact ID is
    #    "nyc3:<image id>". keep_input_artifact keeps the local image file:
    #    without it the import deletes its input and step 4 finds nothing.
    post-processor "digitalocean-import" {
      spaces_region       = "nyc3"
      space_name          = var.space_name
      image_name          = "myapp-${var.app_version}"
      image_description   = "myapp ${var.app_version} on Ubuntu 24.04"
      image_distribution  = "Ubuntu"
      image_regions       = ["nyc3"]
      keep_input_artifact = true
    }

    # 3. Record the imported image's ID.
    post-processor "manifest" {
      output     = "packer-manifest.json"
      strip_path = true
    }

    # 4. Cross-check the imported image (min_disk_size, distribution)
    #    against the kept local file, then point the Marketplace listing at
    #    it: do submit scans again as its own gate before it sends the
    #    Vendor API update with the manifest's image ID.
    post-processor "shell-local" {
      inline = [
        "imgcheck scan --fail-on fail --format text --do-image \"$(jq -r '.builds[-1].artifact_id | split(\":\")[1]' packer-manifest.json)\" ${local.image}",
        "imgcheck do submit --manifest packer-manifest.json --app-id ${var.app_id} --version ${var.app_version} --reason 'myapp ${var.app_version}' --os-version 'Ubuntu 24.04' --software 'myapp=${var.app_version}' ${local.image}",
      ]
    }
  }
}
