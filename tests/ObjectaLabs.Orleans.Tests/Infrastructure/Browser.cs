using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace ObjectaLabs.Orleans.Tests.Infrastructure;

/// <summary>
/// A real headless Chromium (Debian's <c>chromium</c> and <c>chromium-driver</c>, installed from the distribution's
/// packages when missing, as <c>bench/run</c> installs wrk) driven through ChromeDriver. Each instance is a new
/// browser with an empty profile, so nothing (session storage included) carries over between tests. Screenshots go to
/// <see cref="ScreenshotFolder"/> for a reviewer to look at.
/// </summary>
public sealed class Browser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";
    private static readonly Lock InstallLock = new();
    private readonly string _profile = Directory.CreateTempSubdirectory("objectalabs-chromium-").FullName;

    public ChromeDriver Driver { get; }

    public Browser(int width = 1280, int height = 900)
    {
        EnsureInstalled();
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        // As the machine's notes say: headless, as root without the sandbox, and none of the background connections a
        // closed network refuses at every start.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", $"--user-data-dir={_profile}", $"--window-size={width},{height}");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        Driver.Manage().Timeouts().ImplicitWait = TimeSpan.Zero;
    }

    /// <summary>Where screenshots go: OBJECTALABS_SCREENSHOTS, else TestResults/screens at the repository's root.</summary>
    public static string ScreenshotFolder { get; } = Environment.GetEnvironmentVariable("OBJECTALABS_SCREENSHOTS") is { Length: > 0 } folder
        ? folder
        : Path.Combine(RepositoryRoot(), "TestResults", "screens");

    /// <summary>Waits (up to 20 s) until <paramref name="condition"/> holds; the failure says what was awaited and what the page showed.</summary>
    public T WaitFor<T>(Func<IWebDriver, T?> condition, string what, int seconds = 20)
    {
        var wait = new WebDriverWait(Driver, TimeSpan.FromSeconds(seconds)) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        try
        {
            return wait.Until(d => condition(d))!;
        }
        catch (WebDriverTimeoutException)
        {
            var text = Driver.FindElement(By.TagName("body")).Text;
            throw new Xunit.Sdk.XunitException($"Waited {seconds} s for {what}. The page showed:\n{text[..Math.Min(text.Length, 3000)]}\nConsole: {string.Join(" | ", ConsoleErrors())}");
        }
    }

    /// <summary>The element matching <paramref name="css"/> once it is shown.</summary>
    public IWebElement Shown(string css, int seconds = 20) =>
        WaitFor(d => d.FindElements(By.CssSelector(css)).FirstOrDefault(e => e.Displayed), $"'{css}' to be shown", seconds);

    /// <summary>The element matching <paramref name="css"/> once its text contains <paramref name="text"/>.</summary>
    public IWebElement WithText(string css, string text, int seconds = 20) =>
        WaitFor(d => d.FindElements(By.CssSelector(css)).FirstOrDefault(e => e.Displayed && e.Text.Contains(text, StringComparison.Ordinal)),
            $"'{css}' showing '{text}'", seconds);

    public void Select(IWebElement select, string value) => new SelectElement(select).SelectByValue(value);

    public object? Script(string script, params object[] args) => Driver.ExecuteScript(script, args);

    /// <summary>Saves the page as <c>{name}.png</c> in <see cref="ScreenshotFolder"/>; returns its path.</summary>
    public string Screenshot(string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        var path = Path.Combine(ScreenshotFolder, $"{name}.png");
        // The whole page, not just the window: the window is grown to the page's height first.
        var size = Driver.Manage().Window.Size;
        var height = Convert.ToInt32(Script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);"));
        Driver.Manage().Window.Size = new System.Drawing.Size(size.Width, Math.Clamp(height + 120, size.Height, 8000));
        Driver.GetScreenshot().SaveAsFile(path);
        Driver.Manage().Window.Size = size;
        return path;
    }

    /// <summary>Uncaught script errors the browser logged (failed requests, which the screens show in words, are not counted).</summary>
    public IReadOnlyList<string> ConsoleErrors() =>
        [.. Driver.Manage().Logs.GetLog(LogType.Browser)
            .Where(e => e.Level == LogLevel.Severe && !e.Message.Contains("Failed to load resource", StringComparison.Ordinal))
            .Select(e => e.Message)];

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be letting go of its profile; the temp folder is cleaned by the system.
        }
    }

    private static void EnsureInstalled()
    {
        lock (InstallLock)
        {
            if (File.Exists(ChromiumPath) && File.Exists(DriverPath))
            {
                return;
            }
            var root = Environment.UserName == "root";
            var install = "DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; }";
            using var process = Process.Start(new ProcessStartInfo("bash", ["-c", root ? install : $"sudo -n bash -c '{install}'"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 || !File.Exists(ChromiumPath) || !File.Exists(DriverPath))
            {
                throw new InvalidOperationException(
                    $"The browser tests need Debian's chromium and chromium-driver ({ChromiumPath}, {DriverPath}); installing them failed " +
                    $"(exit {process.ExitCode}): {errors}{output.Result[^Math.Min(output.Result.Length, 2000)..]}");
            }
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ObjectaLabs.Orleans.sln")))
            {
                return dir.FullName;
            }
        }
        return Path.Combine(Path.GetTempPath(), "objectalabs-screens");
    }
}
