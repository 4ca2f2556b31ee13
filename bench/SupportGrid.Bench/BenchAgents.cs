using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SupportGrid.Bench;

/// <summary>
/// The agents a benchmark signs in as: <c>{prefix}0 .. {prefix}{count-1}</c>, all with one password, serving one queue.
/// A deployment learns them from configuration (<c>SupportGrid:Agents:{id}:...</c>); <see cref="Settings"/> produces those
/// keys, for environment variables (<c>bench agents-env</c>) or for a test host's settings.
/// </summary>
public sealed record BenchAgents(string Prefix, int Count, int Capacity, string Password, string Queue)
{
    public static BenchAgents For(int chats, int capacity = 50, string password = "bench", string queue = "demo/sales", string prefix = "bench") =>
        new(prefix, Math.Max(1, (chats + capacity - 1) / capacity), capacity, password, queue);

    public string Id(int n) => $"{Prefix}{n}";

    /// <summary>Configuration keys (colon-separated) that define these agents. The password hash uses few PBKDF2
    /// iterations on purpose: sign-in is not what is measured.</summary>
    public IEnumerable<KeyValuePair<string, string>> Settings()
    {
        var hash = HashPassword(Password, iterations: 1000);
        for (var n = 0; n < Count; n++)
        {
            var key = $"SupportGrid:Agents:{Id(n)}";
            yield return new($"{key}:DisplayName", $"Bench {n}");
            yield return new($"{key}:PasswordHash", hash);
            yield return new($"{key}:Capacity", Capacity.ToString(CultureInfo.InvariantCulture));
            yield return new($"{key}:Queues:0", Queue);
        }
    }

    /// <summary>The deployment's password hash format: <c>pbkdf2-sha256$iterations$saltBase64$hashBase64</c>.</summary>
    public static string HashPassword(string password, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }
}
