using ObjectaLabs.Orleans.Api.Hosting;

var app = ApiApplication.Build(args);
app.Run();

/// <summary>The API's entry point (public for test hosts).</summary>
public partial class Program;
