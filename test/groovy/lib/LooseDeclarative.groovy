import org.codehaus.groovy.control.CompilerConfiguration

/** Runs a Jenkinsfile with DeclarativeScript; records every call with the blocks around it. */
class LooseDeclarative {
  final PipelineHarness harness = PipelineHarness.create()
  final List<String> blocks = []
  /** [name:, blocks: [...], args: [...]] for every call. */
  final List<Map> calls = []

  void run(String path) {
    Binding binding = harness.binding
    binding.setVariable('__dsl', this)
    CompilerConfiguration cc = new CompilerConfiguration()
    cc.scriptBaseClass = DeclarativeScript.name
    Script script = new GroovyShell(LooseDeclarative.classLoader, binding, cc).parse(Repo.file(path))
    script.run()
  }

  Object call(String name, Object[] argv) {
    List<Object> args = argv.toList()
    Closure body = args && args[-1] instanceof Closure ? (Closure) args.remove(args.size() - 1) : null
    calls.add([name: name, blocks: new ArrayList<String>(blocks), args: args])
    if (harness.vars.containsKey(name)) {
      return harness.vars[name].invokeMethod('call', args as Object[])
    }
    if (body != null) {
      blocks.add(name)
      try {
        return body.call()
      } finally {
        blocks.remove(blocks.size() - 1)
      }
    }
    return [name: name, args: args]
  }

  List<Map> calls(String name) {
    return calls.findAll { it.name == name }
  }
}
