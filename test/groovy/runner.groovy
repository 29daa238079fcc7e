/*
 * Runs every @Test method of test/groovy/tests/*Test.groovy in this one JVM and ends with
 * `groovy: N passed, M failed`. Usage: groovy -cp test/groovy/lib test/groovy/runner.groovy <repo root> [filter]
 */
import java.lang.reflect.InvocationTargetException
import java.lang.reflect.Method
import java.lang.reflect.Modifier

Repo.root = new File(args ? args[0] : '.').canonicalFile
String filter = args.length > 1 ? args[1] : null

File testDir = Repo.file('test/groovy/tests')
List<File> files = (testDir.listFiles() ?: []).findAll { it.name.endsWith('Test.groovy') }.sort { it.name }
GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)

int passed = 0
int failed = 0
List<String> failures = []
for (File file in files) {
  Class testClass
  try {
    long compileStarted = System.nanoTime()
    testClass = loader.parseClass(file)
    long compileMs = (System.nanoTime() - compileStarted).intdiv(1000000)
    if (compileMs >= 500) {
      println "     (${file.name}: compiled in ${compileMs} ms)"
    }
  } catch (Throwable e) {
    failed++
    failures.add(file.name)
    println "FAIL ${file.name}: does not compile\n" + e.message.readLines().collect { '     ' + it }.join('\n')
    continue
  }
  List<Method> methods = testClass.declaredMethods.findAll {
    it.isAnnotationPresent(Test) && Modifier.isPublic(it.modifiers) && it.parameterTypes.length == 0
  }.sort { it.name }
  for (Method method in methods) {
    String name = testClass.simpleName + ': ' + method.name
    if (filter && !name.contains(filter)) {
      continue
    }
    long started = System.nanoTime()
    try {
      method.invoke(testClass.newInstance())
      passed++
      long ms = (System.nanoTime() - started).intdiv(1000000)
      println "ok   ${name}" + (ms >= 500 ? " (${ms} ms)" : '')
    } catch (InvocationTargetException wrapped) {
      Throwable e = wrapped.cause
      failed++
      failures.add(name)
      String message = (e instanceof AssertionError ? e.message : e.toString()) ?: e.toString()
      println "FAIL ${name}\n" + message.readLines().collect { '     ' + it }.join('\n')
      if (!(e instanceof AssertionError)) {
        e.stackTrace.findAll { it.fileName?.endsWith('.groovy') }.take(8).each { println "       at ${it}" }
      }
    }
  }
}
if (failures) {
  println ''
  println 'failed:'
  failures.each { println '  ' + it }
}
println "groovy: ${passed} passed, ${failed} failed"
System.exit(failed == 0 && passed > 0 ? 0 : 1)
