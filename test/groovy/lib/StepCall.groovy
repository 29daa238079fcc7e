/** One recorded call of a pipeline step. */
class StepCall {
  String name
  /** Positional arguments as given (a Closure body is left out). */
  List<Object> args
  /** The named arguments (the first argument when it is a Map), else [:]. */
  Map<String, Object> named
  /** The environment at the call. */
  Map<String, String> env
  /** Names of the variables bound by withCredentials around the call. */
  List<String> secrets
  /** Enclosing block steps, outermost first, e.g. ['withEnv', 'withCredentials']. */
  List<String> blocks

  /** `sh`: the script argument, String or GString, as passed. */
  Object getScript() {
    return named.containsKey('script') ? named.script : (args ? args[0] : null)
  }

  /** `sh` of the library: the shopsys-ci arguments, i.e. the `set -- ...` line without `set -- `. */
  String getCli() {
    String text = String.valueOf(getScript())
    String first = text.readLines()[0]
    return first.startsWith('set -- ') ? first.substring('set -- '.length()) : null
  }

  String toString() {
    return name + (name == 'sh' ? '(' + getCli() + ')' : '(' + args + ')')
  }
}
