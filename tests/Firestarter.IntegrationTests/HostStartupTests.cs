using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Firestarter.IntegrationTests.Infrastructure;

namespace Firestarter.IntegrationTests;

/// <summary>
/// The host as a process, as it starts with the shipped configuration: what it loads and writes at start, and what a
/// user configures in the "Kestrel" and "Logging" sections (the slim host builder, tried for its smaller footprint,
/// dropped both).
/// </summary>
public sealed class HostStartupTests
{
    [Fact]
    public async Task The_host_starts_without_loading_OpenSSL_or_storing_a_data_protection_key()
    {
        Assert.True(OperatingSystem.IsLinux(), "Reads /proc/PID/maps; the broker runs on Linux.");
        var keys = Directory.CreateTempSubdirectory("firestarter-keys-");
        try
        {
            var port = HostProcess.FreePort();
            // HOME decides where data protection would store a key it made at start (~/.aspnet/DataProtection-Keys).
            await using var host = await HostProcess.StartAsync(port, new Dictionary<string, string> { ["HOME"] = keys.FullName });
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("connect")).StatusCode);

            // Kestrel's QUIC check for HTTP/3 and data protection's eager key ring (YARP registers it for session
            // affinity) each load OpenSSL into the process; neither is used by the shipped configuration.
            var mapped = await File.ReadAllLinesAsync($"/proc/{host.Id}/maps");
            Assert.DoesNotContain(mapped, line => line.Contains("libssl", StringComparison.Ordinal) || line.Contains("libcrypto", StringComparison.Ordinal));
            // (Data protection may create its empty key folder when YARP resolves it; a key is a file in it.)
            Assert.Empty(Directory.EnumerateFiles(keys.FullName, "*.xml", SearchOption.AllDirectories));
        }
        finally
        {
            keys.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task An_HTTPS_endpoint_in_the_Kestrel_section_serves_the_broker()
    {
        var folder = Directory.CreateTempSubdirectory("firestarter-https-");
        try
        {
            var certificate = Path.Combine(folder.FullName, "broker.pfx");
            using (var rsa = RSA.Create(2048))
            {
                var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
                await File.WriteAllBytesAsync(certificate, selfSigned.Export(X509ContentType.Pfx, "test"));
            }

            var port = HostProcess.FreePort();
            var httpsPort = HostProcess.FreePort();
            // Endpoints in the "Kestrel" section replace --urls, so the plain one is configured there too.
            await using var host = await HostProcess.StartAsync(
                port,
                $"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{port}",
                $"--Kestrel:Endpoints:Https:Url=https://127.0.0.1:{httpsPort}",
                $"--Kestrel:Endpoints:Https:Certificate:Path={certificate}",
                "--Kestrel:Endpoints:Https:Certificate:Password=test");

            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
            using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{httpsPort}/") };
            var response = await client.GetAsync("connect");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.True(body.RootElement.GetProperty("connectionTimeoutMs").GetInt32() > 0);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_console_log_is_written_as_JSON_lines_when_configured()
    {
        var port = HostProcess.FreePort();
        await using var host = await HostProcess.StartAsync(port, "--Logging:Console:FormatterName=json");

        // The start-up summary (event 400) is logged before Kestrel's "Now listening", which StartAsync waited for.
        var line = Assert.Single(host.Output, line => line.Contains("\"EventId\":400", StringComparison.Ordinal));
        using var entry = JsonDocument.Parse(line);
        Assert.Equal("Firestarter.Lifetime.WarmPoolLifetime", entry.RootElement.GetProperty("Category").GetString());
        Assert.Equal("Information", entry.RootElement.GetProperty("LogLevel").GetString());
    }
}
