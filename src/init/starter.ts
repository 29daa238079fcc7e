/** The commented starter config that `shopsys-ci init` writes into an application repository. */

export const STARTER_CONFIG = `# shopsys-ci configuration. Every key is described in docs/configuration.md.
# Values may reference environment variables: \${VAR} or \${VAR:-default}.

# Used in namespace names, labels and locks. Lower-case letters, digits and "-".
project: my-shop

names:
  # Hosts of each branch environment; {{slug}} is the branch's slug, {{domain}} is
  # DEVELOPMENT_SERVER_DOMAIN. The first host is the app's main host.
  hosts:
    first: "{{slug}}.{{domain}}"
    second: "2.{{slug}}.{{domain}}"
    adminer: "adminer.{{slug}}.{{domain}}"

# Images built for every commit and pushed to \${DOCKER_REGISTRY}/\${DOCKER_USERNAME}/<name>.
images:
  - name: php-fpm
    placeholder: my-shop/php-fpm   # the image name your kustomize manifests use
    context: .
    dockerfile: docker/php-fpm/Dockerfile
    target: ci
    tag: commit                    # commit | content | template

# Config files rendered with Handlebars (strict: an unknown variable is an error).
templates:
  - source: config/domains_urls.yaml.hbs
    target: config/domains_urls.yaml

kustomize:
  base: kubernetes/overlays/ci     # your own overlay; shopsys-ci adds namespace, images, labels
  patches: []                      # Handlebars patch templates, e.g. ingress hosts
  configMaps:
    - name: domains-urls
      files: [config/domains_urls.yaml]

deploy:
  timeout: 10m
  keep: false                      # keep the environment for review after the build
  ttl: 24h                         # how long a kept environment lives
  # imagePullSecret: true          # private registry: a pull secret in every branch's namespace
  # secrets:                       # the app's Secrets, values from environment variables (Jenkins "Secret text")
  #   app-secrets:
  #     DATABASE_PASSWORD: APP_DATABASE_PASSWORD
  # namespaceLabels:               # a Pod Security level for the branch's namespace (cluster/ requires one)
  #   pod-security.kubernetes.io/enforce: baseline

capacity:
  maxEnvironments: 0               # 0 = unlimited

phases:
  - name: checks
    target: deployment/webserver-php-fpm
    container: php-fpm
    command: [./phing, checks-ci]
    artifacts: [build/junit.xml]
`
