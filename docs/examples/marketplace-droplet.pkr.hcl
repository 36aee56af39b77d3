# DigitalOcean's own Marketplace build flow (marketplace-partners'
# marketplace-image.json) in HCL2: Packer starts a build Droplet, installs
# the app, runs DigitalOcean's 90-cleanup.sh, and snapshots the Droplet.
# Here imgcheck replaces 99-img-check.sh: the linux/amd64 release binary is
# uploaded and scans the running Droplet's own "/" (--root /: /proc, /sys,
# /dev and /run are skipped, devices and FIFOs never opened), first with
# the img_check profile (the same report as 99-img-check.sh), then with
# the marketplace profile as the gate. A FAIL exits 1, the provisioner
# fails, and no snapshot is taken.
#
#   export DIGITALOCEAN_TOKEN=...
#   curl -fsSLO https://github.com/imgcheck/imgcheck/releases/latest/download/imgcheck_linux_amd64.tar.gz
#   tar -xzf imgcheck_linux_amd64.tar.gz imgcheck
#   packer init . && packer build -var app_version=1.4 .
#
# Parsed with HashiCorp's HCL parser in tools/packer_test.go; not run here
# (no Packer, no DigitalOcean account).

packer {
  required_plugins {
    digitalocean = {
      source  = "github.com/digitalocean/digitalocean"
      version = ">= 1.4.0"
    }
  }
}

variable "do_token" {
  type      = string
  default   = env("DIGITALOCEAN_TOKEN")
  sensitive = true
}

variable "app_version" {
  type = string
}

variable "imgcheck_binary" {
  type        = string
  default     = "imgcheck"
  description = "Path of the linux/amd64 imgcheck binary to upload"
}

source "digitalocean" "myapp" {
  api_token     = var.do_token
  image         = "ubuntu-24-04-x64"
  region        = "nyc3"
  size          = "s-1vcpu-1gb"
  ssh_username  = "root"
  snapshot_name = "myapp-${var.app_version}-${formatdate("YYYYMMDDhhmmss", timestamp())}"
  droplet_agent = false
}

build {
  sources = ["source.digitalocean.myapp"]

  provisioner "shell" {
    inline = ["cloud-init status --wait"]
  }

  provisioner "file" {
    source      = "files/etc/"
    destination = "/etc/"
  }

  provisioner "shell" {
    environment_vars = [
      "DEBIAN_FRONTEND=noninteractive",
      "application_version=${var.app_version}",
    ]
    scripts = [
      "scripts/01-myapp.sh",
      "scripts/90-cleanup.sh", # DigitalOcean's marketplace-partners cleanup
    ]
  }

  # After the cleanup: the audit, in place of 99-img-check.sh.
  provisioner "file" {
    source      = var.imgcheck_binary
    destination = "/tmp/imgcheck"
  }

  provisioner "shell" {
    inline = [
      "chmod 0755 /tmp/imgcheck",
      # The img_check.sh report; findings (exit 1) do not stop the build
      # here, an unreadable root (exit 3) or a usage error (exit 2) does.
      "/tmp/imgcheck scan --root / --profile img_check || [ $? -eq 1 ]",
      # The gate: any FAIL exits 1 and fails the build before the snapshot.
      "/tmp/imgcheck scan --root / --profile marketplace --fail-on fail",
      "rm -f /tmp/imgcheck",
    ]
  }
}
