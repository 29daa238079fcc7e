import org.codehaus.groovy.ast.ClassCodeVisitorSupport
import org.codehaus.groovy.ast.ClassNode
import org.codehaus.groovy.ast.MethodNode
import org.codehaus.groovy.ast.ModuleNode
import org.codehaus.groovy.ast.expr.ArgumentListExpression
import org.codehaus.groovy.ast.expr.Expression
import org.codehaus.groovy.ast.expr.GStringExpression
import org.codehaus.groovy.ast.expr.MapExpression
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.ast.expr.TupleExpression
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.Phases
import org.codehaus.groovy.control.SourceUnit

/** Everything Jenkins would load compiles on this Groovy (2.4, as in Jenkins); static checks of the steps. */
class CompileTest {
  static List<File> varFiles() {
    return Repo.file('vars').listFiles().findAll { it.name.endsWith('.groovy') }.sort { it.name }
  }

  static CompilationUnit unit(File file, int phase) {
    CompilerConfiguration cc = new CompilerConfiguration()
    cc.scriptBaseClass = PipelineScript.name
    CompilationUnit cu = new CompilationUnit(cc, null, new GroovyClassLoader(CompileTest.classLoader))
    cu.addSource(file)
    cu.compile(phase)
    return cu
  }

  @Test
  void 'every vars script compiles to bytecode'() {
    assert varFiles()*.name == ['shopsysBuild.groovy', 'shopsysCi.groovy', 'shopsysCleanup.groovy', 'shopsysGc.groovy']
    for (File f in varFiles()) {
      unit(f, Phases.CLASS_GENERATION)
    }
    assert GroovySystem.version.startsWith('2.4.'): "Jenkins runs pipelines with Groovy 2.4; this is ${GroovySystem.version}"
  }

  @Test
  void 'the example Jenkinsfiles parse'() {
    for (String path in ['Jenkinsfile.example', 'Jenkinsfile.gc.example']) {
      unit(Repo.file(path), Phases.CONVERSION)
    }
  }

  @Test
  void 'every step has its help page'() {
    for (File f in varFiles()) {
      String name = f.name - '.groovy'
      File help = Repo.file("vars/${name}.txt")
      assert help.isFile(): "vars/${name}.txt is missing"
      String text = help.getText('UTF-8')
      assert text.contains(name)
      if (name != 'shopsysCi') {
        assert text.contains('<pre>'): "vars/${name}.txt has no example"
      }
    }
  }

  @Test
  void 'the help pages document every key of their step'() {
    PipelineHarness h = PipelineHarness.create()
    for (String step in ['shopsysBuild', 'shopsysCleanup', 'shopsysGc']) {
      String text = Repo.text("vars/${step}.txt")
      List<String> missing = h.vars[step].defaults().keySet().toList().findAll { !text.contains('<code>' + it + '</code>') }
      assert missing == []: "vars/${step}.txt does not document ${missing}"
    }
  }

  /** Finds `sh` calls whose script is a GString, and GStrings that mention a credential variable. */
  static List<String> gstringProblems(File file) {
    CompilationUnit cu = unit(file, Phases.CONVERSION)
    List<String> problems = []
    SourceUnit source = cu.iterator().next()
    ClassCodeVisitorSupport visitor = new ClassCodeVisitorSupport() {
      protected SourceUnit getSourceUnit() {
        return source
      }

      void visitMethodCallExpression(MethodCallExpression call) {
        if (call.methodAsString == 'sh') {
          List<Expression> args = call.arguments instanceof TupleExpression ? ((TupleExpression) call.arguments).expressions : [call.arguments]
          for (Expression arg in args) {
            if (arg instanceof GStringExpression) {
              problems.add("${file.name}:${call.lineNumber}: sh with a double-quoted (GString) script")
            }
            if (arg instanceof MapExpression) {
              arg.mapEntryExpressions.findAll { it.keyExpression.text == 'script' && it.valueExpression instanceof GStringExpression }.each {
                problems.add("${file.name}:${call.lineNumber}: sh(script: <GString>)")
              }
            }
          }
        }
        super.visitMethodCallExpression(call)
      }

      void visitGStringExpression(GStringExpression gstring) {
        if (gstring.text =~ /DOCKER_(PULL_)?(PASSWORD|USERNAME)|KUBECONFIG/) {
          problems.add("${file.name}:${gstring.lineNumber}: GString mentions a credential variable: ${gstring.text}")
        }
        super.visitGStringExpression(gstring)
      }
    }
    ModuleNode module = source.AST
    for (ClassNode c in module.classes) {
      visitor.visitClass(c)
    }
    return problems
  }

  @Test
  void 'no sh in the steps takes a GString, no GString touches a credential'() {
    List<String> problems = []
    for (File f in varFiles()) {
      problems.addAll(gstringProblems(f))
    }
    assert problems == []
  }

  @Test
  void 'the GString check catches a bad step'() {
    File bad = File.createTempFile('badStep', '.groovy')
    bad.text = '''
      def call() {
        withCredentials([usernamePassword(credentialsId: 'x', usernameVariable: 'DOCKER_USERNAME', passwordVariable: 'DOCKER_PASSWORD')]) {
          sh "echo ${env.DOCKER_PASSWORD}"
          sh(script: "docker login -u $DOCKER_USERNAME", returnStatus: true)
          echo "pull secret for ${env.DOCKER_PULL_USERNAME}"
        }
      }
    '''
    List<String> problems = gstringProblems(bad)
    assert problems.size() == 5
    assert problems[-1].contains('GString mentions a credential variable') && problems[-1].contains('DOCKER_PULL_USERNAME')
    bad.delete()
  }
}
