/**
 * Stand-in for the pipeline's `env`: the job's variables plus the layers that withEnv and
 * withCredentials push. Values are Strings; an unknown name is null, as in Jenkins.
 */
class Env extends GroovyObjectSupport {
  final Map<String, String> base = [:]
  final List<Map<String, String>> layers = []

  Object getProperty(String name) {
    for (int i = layers.size() - 1; i >= 0; i--) {
      if (layers[i].containsKey(name)) {
        return layers[i][name]
      }
    }
    return base[name]
  }

  void setProperty(String name, Object value) {
    base[name] = value == null ? null : value.toString()
  }

  Object getAt(String name) {
    return getProperty(name)
  }

  // Methods, not properties: a property of this object is an environment variable.
  void putAll(Map<String, String> values) {
    base.putAll(values)
  }

  void push(Map<String, String> layer) {
    layers.add(layer)
  }

  void pop() {
    layers.remove(layers.size() - 1)
  }

  /** All variables as the `sh` step would see them. */
  Map<String, String> snapshot() {
    Map<String, String> all = [:]
    all.putAll(base)
    for (Map<String, String> layer in layers) {
      all.putAll(layer)
    }
    return all.findAll { k, v -> v != null }
  }
}
